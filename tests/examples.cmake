# The example programs (examples/README.md) in their tiny configurations: each run takes a few
# seconds and exits non-zero unless its cost fell, so the examples cannot rot. Included from
# tests/CMakeLists.txt.
#
# The Fashion-MNIST examples read /usr/share/datasets/fashion-mnist (Debian's
# dataset-fashion-mnist); without it they exit with 77, which CTest reports as skipped.
if(XGRAD_BUILD_EXAMPLES)
  set(XGRAD_EXAMPLE_OUT ${CMAKE_BINARY_DIR}/example_test_output)
  set(XGRAD_EXAMPLE_SKIP_CODE 77)  # examples::kSkipExitCode in examples/common/args.hpp

  add_test(NAME example_neuron COMMAND neuron --quick)
  add_test(NAME example_classify_2d
           COMMAND classify_2d --quick --out-dir ${XGRAD_EXAMPLE_OUT}/classify_2d)
  add_test(NAME example_regression
           COMMAND regression --quick --out-dir ${XGRAD_EXAMPLE_OUT}/regression)
  add_test(NAME example_higher_order
           COMMAND higher_order --quick --out-dir ${XGRAD_EXAMPLE_OUT}/higher_order)
  add_test(NAME example_custom_layer COMMAND custom_layer --quick)
  add_test(NAME example_custom_kernel COMMAND custom_kernel --quick)
  add_test(NAME example_csv_train_iris COMMAND csv_train --quick)
  add_test(NAME example_csv_train_regression
           COMMAND csv_train --quick
                   ${CMAKE_CURRENT_LIST_DIR}/../examples/data/synthetic_regression.csv)

  # Training writes a checkpoint that the --eval run then loads (a CTest fixture orders them).
  add_test(NAME example_fashion_mnist_mlp
           COMMAND fashion_mnist_mlp --quick --out-dir ${XGRAD_EXAMPLE_OUT}/fashion_mnist_mlp)
  add_test(NAME example_fashion_mnist_mlp_eval
           COMMAND fashion_mnist_mlp --quick --eval
                   --out-dir ${XGRAD_EXAMPLE_OUT}/fashion_mnist_mlp)
  set_tests_properties(example_fashion_mnist_mlp PROPERTIES FIXTURES_SETUP example_mlp_checkpoint)
  set_tests_properties(example_fashion_mnist_mlp_eval
                       PROPERTIES FIXTURES_REQUIRED example_mlp_checkpoint)
  add_test(NAME example_fashion_mnist_cnn
           COMMAND fashion_mnist_cnn --quick --out-dir ${XGRAD_EXAMPLE_OUT}/fashion_mnist_cnn)
  add_test(NAME example_autoencoder
           COMMAND autoencoder --quick --out-dir ${XGRAD_EXAMPLE_OUT}/autoencoder)

  set(XGRAD_EXAMPLE_TESTS
      example_neuron example_classify_2d example_regression example_higher_order
      example_custom_layer example_csv_train_iris example_csv_train_regression
      example_fashion_mnist_mlp example_fashion_mnist_mlp_eval example_fashion_mnist_cnn
      example_autoencoder)
  set_tests_properties(${XGRAD_EXAMPLE_TESTS} PROPERTIES
                       LABELS example TIMEOUT 120 SKIP_RETURN_CODE ${XGRAD_EXAMPLE_SKIP_CODE})
endif()
