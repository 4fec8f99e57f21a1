"""Signing in and out: by an emailed link, or with a social or OpenID Connect provider."""
