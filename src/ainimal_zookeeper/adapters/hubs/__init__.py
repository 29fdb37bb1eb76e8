"""Model hub adapters: one module per hub type, chosen in bootstrap/model_hubs.py."""
