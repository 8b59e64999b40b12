"""``tts-gen compare``: the evaluations and runs it reads (:mod:`entries`), the report (:mod:`compare`), its
plots (:mod:`plots`) and its Markdown and HTML renderings (:mod:`render`)."""
