"""Admin imports of units, zones and users from CSV or XLSX (``xuncha import``).

A file is validated whole before anything is written, so a bad row never leaves the
campaign half-imported, and imports are keyed on natural codes so running one twice is safe.
"""
