// SPDX-License-Identifier: MIT
// Result objects and arrays made of own data properties. Object::Set and Array::Set run setters that JS
// may have put on Object.prototype or Array.prototype, so user code would run in the middle of a native
// call, and could see or drop a result. Defining the properties never runs user code.
#ifndef DRM_GPUVM_NATIVE_RESULT_H_
#define DRM_GPUVM_NATIVE_RESULT_H_

#include <napi.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace drm_gpuvm {

using DataFields = std::initializer_list<std::pair<const char*, napi_value>>;

/** Defines these (name, value) data properties on `object`. */
void DefineData(Napi::Env env, napi_value object, DataFields fields);

/** A new plain object with these (name, value) data properties. */
Napi::Object DataObject(Napi::Env env, DataFields fields);

/** A new array of these elements, defined as own data properties. */
Napi::Array DataArray(Napi::Env env, const std::vector<napi_value>& elements);

}  // namespace drm_gpuvm

#endif  // DRM_GPUVM_NATIVE_RESULT_H_
