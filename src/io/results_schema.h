#pragma once
// Names shared by the results writer and reader (docs/hdf5-schema.md describes each).
namespace hs::io::schema {

inline constexpr const char* kTool = "headsweep";
inline constexpr const char* kMasks = "masks";
inline constexpr const char* kMaskNames = "mask_names";
inline constexpr const char* kMasksDone = "masks_done";
inline constexpr const char* kScores = "scores";
inline constexpr const char* kPredictions = "predictions";
inline constexpr const char* kBootstrap = "bootstrap";
inline constexpr const char* kImportance = "importance";
inline constexpr const char* kAttention = "attention";
inline constexpr const char* kPruning = "pruning";
inline constexpr const char* kAblation = "importance/ablation";
inline constexpr const char* kExamples = "examples";
inline constexpr const char* kLabel = "examples/label";
inline constexpr const char* kRow = "examples/row";

}  // namespace hs::io::schema
