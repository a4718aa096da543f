"""The web dashboard for organisers and judges: sign-in, figures, scores (no NoneBot here)."""
