"""The views of a run, every one made from its result document (`results.py`), for both kinds of run:

- `hooks`: the pytest hooks that place a conformance run's views into pytest-html's page and the terminal;
- `html`: the fragments of that page (verdict, matrix, check details, transcripts);
- `load_page`: a load run's standalone page, with its measurements and plots;
- `junit`: the JUnit XML file, of either kind of run;
- `har`: a conformance run's exchanges as an HTTP Archive 1.2 file (`--report har`);
- `terminal`: the lines a run ends on, and the dry-run listing;
- `combined`: one verdict per identity provider for a run of several profiles.
"""
