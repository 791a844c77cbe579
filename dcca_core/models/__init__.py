"""Models of the book: autoencoders, DEC/IDEC, l2-normalised bottlenecks, 1-D DCCA."""
