"""What CS teams receive: alert lists, win-back lists and HTML pages, as files.

Plain functions over account-level frames; rendering uses jinja2 with autoescape on;
files are written atomically into a dated run folder and then published as latest.
"""
