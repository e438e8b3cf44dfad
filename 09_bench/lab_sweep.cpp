// lab_sweep.cpp — the method lab's open-loop rate sweep.
