"""Remediation runbooks: one script per core rule (``runbooks`` describes them all).

Each script module is embedded byte for byte as the inline ``Script`` of an SSM Automation
``aws:executeScript`` step; the ``rules`` package reaches it as the document's attachment.
"""
