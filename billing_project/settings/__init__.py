"""Settings package: ``base`` holds everything shared; ``local``, ``test`` and ``production``
only adjust it. Every value comes from the environment through django-environ."""
