"""Reading Jekyll sites: front matter, dates, Liquid, permalinks and the import itself."""
