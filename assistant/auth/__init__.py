"""Staff and device sign-in: password policy, login throttling, token checks on live sockets."""
