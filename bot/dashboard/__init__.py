"""The web dashboard for organizers and judges: sign-in, figures, scores (no NoneBot here)."""
