// Package analytics is almanac's numeric library for operations time
// series: alignment, robust statistics, seasonality detection,
// seasonal-trend decomposition, anomaly scoring, forecasting with
// prediction intervals, correlation and lag search. It backs the PromQL
// functions anomaly_score, anomaly_band, forecast, forecast_band,
// correlate, correlation_lag and seasonality, but knows nothing of PromQL
// or of the rest of almanac: it works on plain columns, []int64 timestamps
// in milliseconds since the epoch and []float64 values, and is built on
// gonum (stat, stat/distuv, dsp/fourier).
//
// # Two layers
//
// Entry points that take raw samples (ts, vs) regularize them first:
//
//	Seasonality(ts, vs) (time.Duration, error)
//	Assess(ts, vs, method) (Assessment, error)           // anomaly_score, anomaly_band
//	Forecast(ts, vs, horizon, level, method) (Prediction, error)
//	Correlate(ta, va, tb, vb, method) (float64, error)
//	CorrelationLag(tt, vt, tc, vc, maxLag) (Lag, error)
//
// They call the grid layer, which takes a regular series as a []float64
// whose i-th value is at Start + i·Step:
//
//	Regularize, Align, Fill, InferStep      // alignment
//	Median, MAD, Quantile, SlidingMedian    // robust statistics
//	DetectPeriod, Decompose                 // seasonality
//	AssessLast                              // anomaly scoring
//	ForecastSteps                           // forecasting
//	Pearson, Spearman, Prewhiten, BestLag   // correlation
//	SMAPE, MASE                             // backtest error metrics
//
// # Conventions
//
// Missing values: NaN, the Prometheus stale marker (StaleNaNBits) and ±Inf
// are all missing (IsMissing). Raw-sample entry points drop them, place the
// rest on a grid at the median scrape interval (Regularize), linearly
// interpolate interior gaps of up to a tenth of the window (at least 3
// points), and when a longer gap remains keep only the part after it, since
// the newest data matters most (Fill). Statistics skip missing values;
// ForecastSteps needs a complete series.
//
// Time: the newest sample is always the last grid point, at its exact
// timestamp. Periods and lags are counted in grid steps by the grid layer
// and returned as time.Duration by the raw-sample layer (Grid.Span).
//
// Anomaly scores are |value - expected| / sigma, in robust standard
// deviations, >= 0; the newest point is compared with a prediction from the
// points before it only. Deviations below 1e-9 of the data's magnitude
// count as none, so a constant series scores exactly 0 and a jump after a
// constant series gets a large but finite score. See AnomalyMethod.
//
// Forecast intervals are mean ± q·sd(h), q the normal quantile at
// (1+level)/2 (Student's t with n-2 degrees of freedom for linear) and
// sd(h) the standard deviation of the h-step error from in-sample one-step
// residuals:
//
//	linear          exact OLS prediction interval, s·sqrt(1 + 1/n + (t₀-t̄)²/Sxx)
//	holt, holt_winters, theta (SES)
//	                σ·sqrt(1 + Σ_{j<h} c_j²), c_j = α + βj + γ·[j mod m = 0]
//	holt_winters_multiplicative
//	                the same on relative errors, times |forecast| (approximate)
//	seasonal_naive  σ·sqrt(⌊(h-1)/m⌋ + 1)
//	seasonal_linear exact OLS interval of a line plus a seasonal profile,
//	                s·sqrt(1 + 1/n_j + (t₀-t̄_j)²/S), Student's t with n-m-1
//
// ForecastAuto's interval does not trust these formulas, which take the
// errors for independent and Gaussian and hold only as far as the model
// does: it is ±(the level-quantile of the chosen model's backtest errors,
// each divided by the model's sd at its origin and horizon) × sd(h), the
// quantile taken at ⌈(k+1)·level⌉/k for k held-out values. The formula
// keeps its say in how the error grows with h and how noisy the window
// is; the backtest sets the scale and the tails. See ForecastAuto.
//
// Correlation lag sign: a positive lag means the candidate moves first, its
// value lag earlier matching the target now.
//
// Errors are the sentinels of errors.go, wrapped with detail; match them
// with errors.Is. No function panics on input; results that are undefined
// rather than wrong (the correlation of a constant) are NaN.
//
// # Concurrency
//
// All functions are safe for concurrent use: the package has no mutable
// state and logs nothing. A SlidingMedian is a value owned by one
// goroutine. Inputs are never modified; returned slices belong to the
// caller.
package analytics
