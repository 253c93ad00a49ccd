// Public types of the profile-credentials plugin.

export interface ProfileCredentialsOptions {
  /** How long a credential_process may run before it is stopped (default 60 s). */
  processTimeout?: number | `${number}${'ms' | 's' | 'm' | 'h'}`;
  /** How long to wait for instance or container metadata (credential_source) before giving up (default 2 s). */
  metadataTimeout?: number | `${number}${'ms' | 's' | 'm' | 'h'}`;
}
