"""Shared domain pieces every capability may use: money, periods, FX, name resolution, the
approval policy document, the expense selection and approval decisions."""
