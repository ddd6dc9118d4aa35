// The one place where tensors become kernel params: pointers, strides and dims, on the tensor's
// device and libtorch's current stream.
#include "ops/cuda_ops.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <map>
#include <mutex>
#include <utility>

#include "bias_gelu.h"
#include "device_support.h"
#include "gated_attn_fwd.h"
#include "head_mix_ln.h"
#include "ops/tensor_checks.h"
#include "ops/upload.h"

namespace hs::ops {
namespace {

gpu::DType kernel_dtype(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return gpu::DType::F32;
    case at::kHalf: return gpu::DType::F16;
    case at::kBFloat16: return gpu::DType::BF16;
    default: TORCH_CHECK(false, "CUDA ops take float32, float16 or bfloat16, got ", t.scalar_type());
  }
}

const void* ptr_or_null(const at::Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

// The index of `device`; plain "cuda" is the calling thread's current device.
c10::DeviceIndex index_of(const at::Device& device) {
  TORCH_CHECK(device.is_cuda(), "a CUDA device is needed here, got ", device);
  return device.has_index() ? device.index() : c10::cuda::current_device();
}

}  // namespace

bool cuda_ops_built() { return true; }
int cuda_device_count() { return at::cuda::is_available() ? static_cast<int>(at::cuda::device_count()) : 0; }

std::string cuda_device_name(int index) {
  return at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(index))->name;
}

std::string cuda_device_unusable(int index) {
  const cudaError_t err = gpu::kernel_image_for(index);
  if (err == cudaSuccess) return "";
  if (err == cudaErrorDevicesUnavailable)
    return std::string(cudaGetErrorString(err)) +
           " (its compute mode is exclusive-process and another process holds it, or prohibited)";
  const cudaDeviceProp* prop = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(index));
  // The tensor-core attention and cp.async need sm_80, so an older GPU is out of reach of any build.
  const std::string cc = std::to_string(prop->major) + "." + std::to_string(prop->minor);
  const std::string help = prop->major < 8 ? "headsweep's kernels need compute capability 8.0 or newer"
                                           : "rebuild with " + std::to_string(prop->major) +
                                                 std::to_string(prop->minor) + " in CMAKE_CUDA_ARCHITECTURES";
  return "compute capability " + cc + ", and this build's kernels are compiled for CUDA architectures " +
         gpu::kernel_architectures() + " (" + cudaGetErrorString(err) + "); " + help;
}

void on_own_stream(const at::Device& device, int slot, const std::function<void()>& fn) {
  const c10::DeviceIndex index = index_of(device);
  const c10::cuda::CUDAStream stream = [&] {
    static std::mutex mutex;
    static std::map<std::pair<c10::DeviceIndex, int>, c10::cuda::CUDAStream> streams;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = streams.find({index, slot});
    if (it == streams.end()) {
      it = streams.emplace(std::make_pair(index, slot), c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)).first;
    }
    return it->second;
  }();
  try {
    const c10::cuda::CUDAStreamGuard guard(stream);
    fn();
  } catch (...) {
    // What fn queued may still read tensors its caller frees once the exception arrives.
    try {
      stream.synchronize();
    } catch (...) {  // the first error is the one to report
    }
    throw;
  }
  stream.synchronize();
}

void sync_current_stream(const at::Device& device) {
  c10::cuda::getCurrentCUDAStream(index_of(device)).synchronize();
}

at::Tensor gated_attn_fwd_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                               double scale) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), D = q.size(3);
  // The kernel addresses token t of sequence b as (b·T + t)·row_stride, so batch stride = T·row stride.
  for (const auto& [x, name] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}}) {
    TORCH_CHECK(x->stride(-1) == 1, name, " must have a contiguous last dimension");
    TORCH_CHECK(x->stride(2) == D && x->stride(0) == T * x->stride(1), name,
                " must be a (B, T, H, D) view with uniformly strided tokens");
  }
  const c10::cuda::CUDAGuard guard(q.device());
  const at::Tensor lens = upload(key_lens, q.device()).contiguous();
  const at::Tensor g = gates.defined() ? upload(gates, q.device()).contiguous() : at::Tensor();
  const at::Tensor rows = gate_row.defined() ? upload(gate_row, q.device()).contiguous() : at::Tensor();
  at::Tensor out = at::empty({B, T, H, D}, q.options());
  gpu::GatedAttnParams p;
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.q_row_stride = q.stride(1);
  p.k_row_stride = k.stride(1);
  p.v_row_stride = v.stride(1);
  p.out = out.data_ptr();
  p.out_row_stride = H * D;
  p.key_lens = lens.data_ptr<int>();
  p.B = static_cast<int>(B);
  p.H = static_cast<int>(H);
  p.D = static_cast<int>(D);
  p.max_seqlen = static_cast<int>(T);
  p.scale = static_cast<float>(scale);
  p.gates = g.defined() ? g.data_ptr<float>() : nullptr;
  p.gate_row = rows.defined() ? rows.data_ptr<int>() : nullptr;
  p.dtype = kernel_dtype(q);
  gpu::gated_attn_fwd_launch(p, at::cuda::getCurrentCUDAStream());
  return out;
}

at::Tensor gated_attn_fused_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                                 double scale, const at::Tensor& real_key_given) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2);
  const c10::cuda::CUDAGuard guard(q.device());
  at::Tensor real_key = real_key_given.defined() ? upload(real_key_given, q.device()) : at::Tensor();
  if (!real_key.defined()) {
    const at::Tensor lens = upload(key_lens, q.device()).to(at::kLong);
    real_key = at::arange(T, lens.options()).view({1, T}).lt(lens.view({B, 1})).view({B, 1, 1, T});
  }
  // (B, H, T, D) views of the (B, T, H, D) inputs; no copy.
  at::Tensor ctx = at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), real_key,
                                                    0.0, false, scale);
  if (gates.defined()) {
    const at::Tensor g = upload(gates, q.device());
    const at::Tensor per_row = gate_row.defined() ? g.index_select(0, upload(gate_row, q.device())) : g[0].expand({B, H});
    ctx = ctx * per_row.to(ctx.scalar_type()).view({B, H, 1, 1});
  }
  return ctx.transpose(1, 2).contiguous();
}

at::Tensor head_mix_ln_cuda(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias,
                            const at::Tensor& residual, const at::Tensor& ln_weight, const at::Tensor& ln_bias,
                            double eps) {
  const int64_t H = proj.size(0), tokens = proj.size(1), C = proj.size(2);
  const c10::cuda::CUDAGuard guard(proj.device());
  const at::Tensor pr = proj.contiguous();
  const at::Tensor g = gates.defined() ? upload(gates, proj.device()).contiguous() : at::Tensor();
  const at::Tensor res = residual.defined() ? residual.contiguous() : at::Tensor();
  const int64_t N = g.defined() ? g.size(0) : 1;
  at::Tensor out = at::empty({N, tokens, C}, proj.options());
  gpu::HeadMixParams p;
  p.proj = pr.data_ptr();
  p.proj_head_stride = tokens * C;
  p.gates = g.defined() ? g.data_ptr<float>() : nullptr;
  p.bias = ptr_or_null(bias);
  p.residual = ptr_or_null(res);
  p.ln_weight = ptr_or_null(ln_weight);
  p.ln_bias = ptr_or_null(ln_bias);
  p.eps = static_cast<float>(eps);
  p.out = out.data_ptr();
  p.N = static_cast<int>(N);
  p.H = static_cast<int>(H);
  p.tokens = static_cast<int>(tokens);
  p.C = static_cast<int>(C);
  p.dtype = kernel_dtype(proj);
  gpu::head_mix_ln_launch(p, at::cuda::getCurrentCUDAStream());
  return out;
}

void bias_gelu_cuda_(at::Tensor& x, const at::Tensor& bias, bool tanh_approx) {
  HS_CHECK_CONTIGUOUS(x);
  const c10::cuda::CUDAGuard guard(x.device());
  gpu::BiasGeluParams p;
  p.x = x.data_ptr();
  p.bias = ptr_or_null(bias);
  p.rows = x.size(0);
  p.cols = x.size(1);
  p.tanh_approx = tanh_approx;
  p.dtype = kernel_dtype(x);
  gpu::bias_gelu_launch(p, at::cuda::getCurrentCUDAStream());
}

}  // namespace hs::ops
