"""Tenants: applications (each with its webhook secret) and their API keys."""
