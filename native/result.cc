// SPDX-License-Identifier: MIT
#include "result.h"

#include <string>

namespace drm_gpuvm {

namespace {

constexpr napi_property_attributes kData = static_cast<napi_property_attributes>(napi_writable | napi_enumerable |
                                                                                 napi_configurable);

}  // namespace

void DefineData(Napi::Env env, napi_value object, DataFields fields) {
  napi_property_descriptor descriptors[16];
  size_t count = 0;
  for (const auto& [name, value] : fields) {
    if (count == sizeof(descriptors) / sizeof(descriptors[0])) break;
    descriptors[count++] = {name, nullptr, nullptr, nullptr, nullptr, value, kData, nullptr};
  }
  NAPI_THROW_IF_FAILED_VOID(env, napi_define_properties(env, object, count, descriptors));
}

Napi::Object DataObject(Napi::Env env, DataFields fields) {
  Napi::Object object = Napi::Object::New(env);
  DefineData(env, object, fields);
  return object;
}

Napi::Array DataArray(Napi::Env env, const std::vector<napi_value>& elements) {
  Napi::Array array = Napi::Array::New(env, elements.size());
  std::vector<std::string> names;
  names.reserve(elements.size());
  std::vector<napi_property_descriptor> descriptors;
  descriptors.reserve(elements.size());
  // Index keys as strings ("0", "1", ...): defining them makes array elements.
  for (size_t i = 0; i < elements.size(); i++) names.push_back(std::to_string(i));
  for (size_t i = 0; i < elements.size(); i++) {
    descriptors.push_back({names[i].c_str(), nullptr, nullptr, nullptr, nullptr, elements[i], kData, nullptr});
  }
  NAPI_THROW_IF_FAILED(env, napi_define_properties(env, array, descriptors.size(), descriptors.data()), Napi::Array());
  return array;
}

}  // namespace drm_gpuvm
