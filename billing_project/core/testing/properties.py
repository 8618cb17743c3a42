"""Hypothesis profiles: deterministic by default, exploratory on purpose.

- ``deterministic`` (the default: ``make test`` and CI). Each property test draws the same examples
  on every run, derived from the test's own code (``derandomize``), and no example database is read
  or written, so a run's result depends only on the code.
- ``explore`` (``make test-explore``). Random seeds, at least ``EXPLORE_EXAMPLES`` examples of every
  property test, and the local example database (``.hypothesis/``, not committed), so a failure it
  finds replays on the next run until it is fixed. Pin every counterexample it finds with
  ``@example`` beside the test: the deterministic run then checks it for good.

``HYPOTHESIS_PROFILE`` picks the profile (the root ``conftest.py`` loads this module before any test
module is imported). Property tests carry the ``property`` marker and take their number of examples
from ``examples()``, so the explore profile's count is never lowered by a test's own.
"""

import os

from hypothesis import settings

EXPLORE_EXAMPLES = 500

# deadline=None in both: a deadline turns a slow moment of a shared machine into a failure.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, max_examples=EXPLORE_EXAMPLES, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def exploring() -> bool:
    """Whether this run looks for new counterexamples (random seeds) rather than repeating itself."""
    return not settings().derandomize


def examples(count: int) -> int:
    """A property test's number of examples: ``count`` in the deterministic run (what the everyday
    suite can afford), and never fewer than the profile's own when exploring."""
    return max(count, settings().max_examples) if exploring() else count
