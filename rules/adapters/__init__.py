"""Pure converters from a source's shapes to ``rules.model``. No AWS calls here."""
