#pragma once
// Classification metrics over class indices stored as doubles (the argmax of the logits and the
// label of hs::data::Example). They match scikit-learn's accuracy_score, f1_score (binary,
// zero_division=0) and matthews_corrcoef. Empty or mismatched inputs, non-finite values and
// values that are not class indices throw std::invalid_argument.
#include <cstdint>
#include <vector>

namespace hs::metrics {

struct BinaryCounts {
  int64_t tp = 0;
  int64_t fp = 0;
  int64_t fn = 0;
  int64_t tn = 0;
};

// Confusion counts with class 1 as the positive class; values must be 0 or 1.
BinaryCounts binary_counts(const std::vector<double>& predictions, const std::vector<double>& gold);

// Fraction of predictions equal to the gold class.
double accuracy(const std::vector<double>& predictions, const std::vector<double>& gold);

// F1 of class 1: 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall. A precision
// or recall with a zero denominator counts as 0, and so F1 is 0 when there are no true
// positives, including when no row is positive at all (sklearn's zero_division=0).
double f1(const std::vector<double>& predictions, const std::vector<double>& gold);

// Matthews correlation coefficient, in the K-class form sklearn uses (Gorodkin's R_K), which for
// two classes is (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)). 0 when the denominator
// is 0, i.e. when all predictions or all gold labels are one class.
double mcc(const std::vector<double>& predictions, const std::vector<double>& gold);

}  // namespace hs::metrics
