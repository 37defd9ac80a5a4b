"""The I/O edges: AWS clients and sessions, the inventory reader, ASFF findings, publishers.

Shared by the Lambda handler (``rules.handler``) and the scan CLI; the rule engine never imports
from here, so checks stay pure.
"""
