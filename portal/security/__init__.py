"""The security gate: roles as data, and (later) row scope, masking and the access log."""
