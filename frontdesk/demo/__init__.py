"""The demo clinic: a generator (above the services, since it calls them) and its word lists."""
