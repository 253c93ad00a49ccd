# What the AWS CLI (botocore) reads from ~/.aws files, as JSON, for the differential test in
# test/aws/botocore.test.ts. Reads one JSON request on stdin and prints one JSON answer on stdout:
#   in:  [{"id": ..., "config": path|null, "credentials": path|null, "resolve": [profile, ...]}, ...]
#   out: {id: {"config": view, "credentials": view, "resolved": {profile: result}}}
# A view is {"error": ExceptionClass} or {"profiles": {...}, "sso_sessions": {...}} with sub-section dicts
# flattened to "parent.key" keys, the way stormtunnel stores them. A resolved profile is
# {"error": ExceptionClass}, null (no credentials) or {"access_key", "secret_key", "token"}.
import json
import sys

import botocore.configloader as loader
import botocore.session


def flatten(section):
    out = {}
    for key, value in section.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                out[key + "." + sub] = subvalue
        else:
            out[key] = value
    return out


def view(path, build):
    if path is None:
        return None
    try:
        parsed = loader.raw_config_parse(path)
    except Exception as e:  # the class name is what the test compares
        return {"error": type(e).__name__}
    if build:
        mapped = loader.build_profile_map(parsed)
        return {
            "profiles": {k: flatten(v) for k, v in mapped["profiles"].items()},
            "sso_sessions": {k: flatten(v) for k, v in mapped["sso_sessions"].items()},
        }
    return {"profiles": {k: flatten(v) for k, v in parsed.items()}, "sso_sessions": {}}


def resolve(config, credentials, profile):
    session = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", config or "/nonexistent/config")
    session.set_config_variable("credentials_file", credentials or "/nonexistent/credentials")
    try:
        creds = session.get_credentials()
    except Exception as e:
        return {"error": type(e).__name__}
    if creds is None:
        return None
    return {"access_key": creds.access_key, "secret_key": creds.secret_key, "token": creds.token}


def main():
    requests = json.load(sys.stdin)
    answers = {}
    for r in requests:
        answers[r["id"]] = {
            "config": view(r.get("config"), True),
            "credentials": view(r.get("credentials"), False),
            "resolved": {p: resolve(r.get("config"), r.get("credentials"), p) for p in r.get("resolve", [])},
        }
    json.dump(answers, sys.stdout)


main()
