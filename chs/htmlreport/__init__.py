"""The self-contained HTML report of a scored portfolio (`chs report --html`)."""
