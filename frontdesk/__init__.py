"""frontdesk: offline-first front-desk software for private allied-health clinics."""

__version__ = "0.1.0"
APP_NAME = "frontdesk"
