"""The package's one exception type."""


class CourseError(Exception):
    """A problem the learner can fix; the message says what was expected, what was found, what to do.

    After ``cu.setup()`` a notebook shows a ``CourseError`` as its one-line message instead of a
    traceback (see ``course_utils.session.short_errors``).
    """
