"""Working time (工作日 / 工作时): the calendar rectification deadlines are counted in.

``calendar`` is pure (no Flask, no database); ``services`` builds it from the settings and the
official schedules an administrator loaded; ``views`` and ``cli`` expose those schedules.
"""
