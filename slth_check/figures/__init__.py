"""Every figure: the only code that imports matplotlib."""
