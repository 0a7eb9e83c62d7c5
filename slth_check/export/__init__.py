"""Export of slth-check's objects to other tools' formats (issue 12)."""
