"""What every layer of the package uses: one-line errors for what a user gives, reading a user's files
safely, and rounding to whole numbers."""
