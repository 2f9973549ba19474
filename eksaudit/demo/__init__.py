"""The demo: a local CloudWatch Logs endpoint loaded with a realistic EKS audit log."""
