// lab_roles.cpp — the open-loop sweep's two sides.
