"""Messaging screens: the patient card's Messages tab and Settings → Messages (issue 18)."""
