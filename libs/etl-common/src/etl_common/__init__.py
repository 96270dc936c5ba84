"""Code the services share: settings, JSON logs, errors, the paced HTTP client, storage, manifest, schemas."""
