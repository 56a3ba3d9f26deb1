"""A Sphinx extension of the book: each page loads each script once.

sphinx-thebe and sphinx-togglebutton each add an inline script twice (once
under a filename of ``None``, once of ``""``), and Sphinx keeps every inline
script it is given, so each page carried both twice. This drops repeated
scripts from the page context before the page is written.
"""


def _one_of_each(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _one_of_each, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
