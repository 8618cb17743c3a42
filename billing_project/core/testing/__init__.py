"""What the tests of every app share and is not a fixture: the typed factory base, the hypothesis
profiles, threads started together for race tests, and the browser tests' helpers. Fixtures live in
``conftest.py`` files. Only tests and ``conftest.py`` import this package; it imports no app."""
