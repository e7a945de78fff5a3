"""Chasing overdue prevention actions: the SQL model decides who hears about what
(``marts.rpt_overdue_actions``); this package only delivers it, exactly once, through a ledger."""
