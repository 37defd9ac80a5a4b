"""One module per rule: a pure check function over ``LambdaFunction`` and the rule's ``RULE``."""
