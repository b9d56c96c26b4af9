package roster

// axpy sets y[i] += alpha*x[i] for every i < len(y); len(x) >= len(y).
// SSE2 (every amd64 has it) does two at a time, multiplying and adding
// separately so the results are the bits the pure Go loop gives.
//
//go:noescape
func axpy(alpha float64, x, y []float64)
