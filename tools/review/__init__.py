"""Review capability: review_expenses (policy breaches and error/fraud patterns, with evidence)."""
