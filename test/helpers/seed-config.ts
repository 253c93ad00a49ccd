// The profiles most tests use, on the emulator's seed state (the public harness, src/testing, makes the HOME).

/** Standard profiles on the emulator's seed state: an sso-session profile, a legacy one, a cross-account role. */
export function seedConfig(startUrl: string): string {
  return `[default]
region = us-east-1

[profile dev]
sso_session = work
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile readonly]
sso_session = work
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-east-1

[profile legacy]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = Developer
region = us-east-1

[sso-session work]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`;
}
