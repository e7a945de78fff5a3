"""Chasing overdue prevention actions: the SQL models decide who hears about what
(``marts.rpt_overdue_actions``, one row per action and stage; ``marts.rpt_reminder_messages``, one
row per message); this package only renders and delivers them, exactly once, through a ledger."""
