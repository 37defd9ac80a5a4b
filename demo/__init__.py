"""The local demo: moto_server on 127.0.0.1, a seeded sample account, the real rule handlers.

Development-only (it needs moto); nothing here ships in the rule functions' asset.
"""
