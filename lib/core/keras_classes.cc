// Table of Keras built-in layer class names (see keras_classes.h).
#include "core/keras_classes.h"

#include <set>

namespace kmodel {

namespace {
const std::set<std::string>& builtin_classes() {
  static const std::set<std::string> kClasses = {
      // models
      "Sequential", "Functional", "Model",
      // core
      "InputLayer", "Dense", "EinsumDense", "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
      "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
      "Flatten", "Reshape", "Permute", "RepeatVector", "Lambda", "Masking", "Embedding", "Identity",
      "TFOpLambda", "SlicingOpLambda", "Rescaling", "Normalization", "CenterCrop", "Resizing",
      // activations
      "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU",
      // convolution
      "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
      "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D", "ConvLSTM1D",
      "ConvLSTM2D", "ConvLSTM3D", "LocallyConnected1D", "LocallyConnected2D",
      "Convolution1D", "Convolution2D", "Convolution3D", "Deconvolution2D", "AtrousConvolution1D",
      "AtrousConvolution2D", "SeparableConvolution2D",
      // pooling, padding, resizing
      "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
      "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
      "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "MaxPool1D", "MaxPool2D",
      "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
      "GlobalAvgPool1D", "GlobalAvgPool2D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
      "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
      // normalization
      "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization",
      "SyncBatchNormalization",
      // recurrent
      "LSTM", "GRU", "SimpleRNN", "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "StackedRNNCells",
      "Bidirectional", "TimeDistributed", "CuDNNLSTM", "CuDNNGRU",
      // merge
      "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Merge",
      // attention
      "Attention", "AdditiveAttention", "MultiHeadAttention",
      // preprocessing
      "StringLookup", "IntegerLookup", "TextVectorization", "CategoryEncoding", "Hashing", "Discretization",
      "RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation", "RandomCrop",
      "RandomBrightness", "RandomHeight", "RandomWidth", "HashedCrossing",
  };
  return kClasses;
}
}  // namespace

bool is_builtin_layer_class(const std::string& class_name) { return builtin_classes().count(class_name) > 0; }

bool is_code_layer_class(const std::string& class_name) { return class_name == "Lambda"; }

}  // namespace kmodel
