"""Funded care (issue 19): referrals and plans, the booking-time funding check, claims, the
NDIA's files and remittances. See docs/claims.md."""
