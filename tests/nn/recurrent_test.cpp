// Recurrent layers and cells on their own: finite-difference gradients (first and second order)
// of the steps and of whole layers, parameter names and shapes, state handling, dropout between
// layers, printing, and a clear Error for every bad argument or input.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>

namespace dc = descent;
namespace nn = descent::nn;

namespace {
dc::Tensor randn64(const dc::Shape& shape) {
    return dc::randn(shape, {.dtype = dc::float64}).requires_grad_();
}

double max_abs_diff(const dc::Tensor& a, const dc::Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    return (a - b).abs().max().item();
}

std::vector<std::string> names(const nn::Module& m) {
    std::vector<std::string> out;
    for (const auto& [n, p] : m.named_parameters()) out.push_back(n + dc::shape_str(p.shape()));
    return out;
}
}  // namespace

TEST_CASE("recurrent steps pass gradcheck and gradgradcheck", "[nn][recurrent][gradcheck]") {
    dc::manual_seed(11);
    const dc::Tensor x4 = randn64({2, 4}), x12 = randn64({2, 12}), x9 = randn64({2, 9});
    const dc::Tensor h = randn64({2, 3}), c = randn64({2, 3});
    const dc::Tensor w_hh12 = randn64({12, 3}), w_hh9 = randn64({9, 3}), b12 = randn64({12});
    const dc::Tensor w_hr = randn64({2, 3}), h2 = randn64({2, 2}), w_hh12p = randn64({12, 2});
    const dc::Tensor b4 = randn64({4}), b9 = randn64({9}), h4 = randn64({2, 4});
    for (const auto nonlinearity : {nn::Nonlinearity::tanh, nn::Nonlinearity::relu}) {
        auto rnn = [nonlinearity](const std::vector<dc::Tensor>& v) {
            return nn::rnn_step(v[0], v[1], v[2], v[3], nonlinearity);
        };
        dc::gradcheck(rnn, {x4, h4, randn64({4, 4}), b4});
        dc::gradgradcheck(rnn, {x4, h4, randn64({4, 4}), b4});
    }
    auto lstm = [](const std::vector<dc::Tensor>& v) {
        const nn::LSTMState s = nn::lstm_step(v[0], {v[1], v[2]}, v[3], v[4]);
        return std::vector<dc::Tensor>{s.h, s.c};
    };
    dc::gradcheck(lstm, {x12, h, c, w_hh12, b12});
    dc::gradgradcheck(lstm, {x12, h, c, w_hh12, b12});
    auto projected = [](const std::vector<dc::Tensor>& v) {
        const nn::LSTMState s = nn::lstm_step(v[0], {v[1], v[2]}, v[3], {}, v[4]);
        return std::vector<dc::Tensor>{s.h, s.c};
    };
    dc::gradcheck(projected, {x12, h2, c, w_hh12p, w_hr});
    dc::gradgradcheck(projected, {x12, h2, c, w_hh12p, w_hr});
    auto gru = [](const std::vector<dc::Tensor>& v) {
        return nn::gru_step(v[0], v[1], v[2], v[3]);
    };
    dc::gradcheck(gru, {x9, h, w_hh9, b9});
    dc::gradgradcheck(gru, {x9, h, w_hh9, b9});
}

TEST_CASE("whole recurrent layers pass gradcheck and gradgradcheck through time",
          "[nn][recurrent][gradcheck]") {
    dc::manual_seed(12);
    nn::LSTM lstm(2, 3, {.num_layers = 2, .bidirectional = true, .proj_size = 2});
    nn::GRU gru(2, 3, {.batch_first = true});
    nn::RNN rnn(2, 3, {.nonlinearity = nn::Nonlinearity::tanh, .bidirectional = true});
    lstm.to(dc::float64);
    gru.to(dc::float64);
    rnn.to(dc::float64);
    const dc::Tensor x = randn64({4, 2, 2});
    auto through_lstm = [&](const std::vector<dc::Tensor>& v) {
        auto [out, state] = lstm(v[0], {v[1], v[2]});
        return std::vector<dc::Tensor>{out, state.h, state.c};
    };
    const std::vector<dc::Tensor> lstm_inputs{randn64({3, 1, 2}), randn64({4, 1, 2}),
                                              randn64({4, 1, 3})};
    dc::gradgradcheck(through_lstm, lstm_inputs);
    // first order also with several rows, whose strides differ when proj_size < hidden_size
    dc::gradcheck(through_lstm, {randn64({3, 3, 2}), randn64({4, 3, 2}), randn64({4, 3, 3})});
    auto through_gru = [&](const std::vector<dc::Tensor>& v) {
        auto [out, h] = gru(v[0], v[1]);
        return std::vector<dc::Tensor>{out, h};
    };
    dc::gradcheck(through_gru, {x, randn64({1, 4, 3})});
    dc::gradgradcheck(through_gru, {x, randn64({1, 4, 3})});
    auto through_rnn = [&](const std::vector<dc::Tensor>& v) { return rnn(v[0]).output; };
    dc::gradcheck(through_rnn, {x});
    dc::gradgradcheck(through_rnn, {x});
}

TEST_CASE("recurrent layers have torch's parameter names, shapes and initial range",
          "[nn][recurrent]") {
    nn::LSTM lstm(3, 5, {.num_layers = 2, .bias = true, .bidirectional = true, .proj_size = 2});
    const std::vector<std::string> expected{"weight_ih_l0[20,3]",
                                            "weight_hh_l0[20,2]",
                                            "bias_ih_l0[20]",
                                            "bias_hh_l0[20]",
                                            "weight_hr_l0[2,5]",
                                            "weight_ih_l0_reverse[20,3]",
                                            "weight_hh_l0_reverse[20,2]",
                                            "bias_ih_l0_reverse[20]",
                                            "bias_hh_l0_reverse[20]",
                                            "weight_hr_l0_reverse[2,5]",
                                            "weight_ih_l1[20,4]",
                                            "weight_hh_l1[20,2]",
                                            "bias_ih_l1[20]",
                                            "bias_hh_l1[20]",
                                            "weight_hr_l1[2,5]",
                                            "weight_ih_l1_reverse[20,4]",
                                            "weight_hh_l1_reverse[20,2]",
                                            "bias_ih_l1_reverse[20]",
                                            "bias_hh_l1_reverse[20]",
                                            "weight_hr_l1_reverse[2,5]"};
    CHECK(names(lstm) == expected);
    CHECK(names(nn::GRU(4, 2, {.bias = false})) ==
          std::vector<std::string>{"weight_ih_l0[6,4]", "weight_hh_l0[6,2]"});
    CHECK(names(nn::GRUCell(4, 2)) ==
          std::vector<std::string>{"weight_ih[6,4]", "weight_hh[6,2]", "bias_ih[6]", "bias_hh[6]"});
    const double bound = 1.0 / std::sqrt(5.0);  // U(±1/√H) for every parameter
    for (const auto& p : lstm.parameters()) {
        CHECK(p.abs().max().item() <= bound);
        CHECK(p.abs().max().item() > 0.5 * bound);
    }
}

TEST_CASE("recurrent layers: shapes, continuing a state, empty batches, dropout and printing",
          "[nn][recurrent]") {
    dc::manual_seed(13);
    nn::GRU gru(3, 4, {.num_layers = 2, .batch_first = true});
    const dc::Tensor x = dc::randn({2, 6, 3});
    auto [out, h] = gru(x);
    CHECK(out.shape() == dc::Shape{2, 6, 4});
    CHECK(h.shape() == dc::Shape{2, 2, 4});
    // Running the two halves with the state carried over is running the whole (up to float32
    // rounding: the input products are blocked differently over 6 steps than over 3).
    auto [first, h_mid] = gru(x.slice(1, 0, 3));
    auto [second, h_end] = gru(x.slice(1, 3, 6), h_mid);
    CHECK(max_abs_diff(dc::concat({first, second}, 1), out) <= 1e-6);
    CHECK(max_abs_diff(h_end, h) <= 1e-6);
    // The top layer's final state is the last output step.
    CHECK(max_abs_diff(h.slice(0, 1, 2).squeeze(0), out.slice(1, 5, 6).squeeze(1)) <= 0.0);

    nn::LSTM lstm(3, 4);
    auto [empty_out, empty_state] = lstm(dc::zeros({5, 0, 3}));
    CHECK(empty_out.shape() == dc::Shape{5, 0, 4});
    CHECK(empty_state.c.shape() == dc::Shape{1, 0, 4});

    nn::RNN deep(3, 3, {.num_layers = 3, .dropout = 0.5});
    const dc::Tensor seq = dc::randn({4, 2, 3});
    deep.eval();
    CHECK(max_abs_diff(deep(seq).output, deep(seq).output) == 0.0);
    deep.train();
    CHECK(max_abs_diff(deep(seq).output, deep(seq).output) > 0.0);  // dropout between layers

    CHECK(nn::to_string(nn::LSTM(3, 4, {.num_layers = 2, .batch_first = true, .proj_size = 2}))
              .find("LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True)") !=
          std::string::npos);
    CHECK(nn::to_string(nn::RNNCell(3, 4, false, nn::Nonlinearity::relu))
              .find("RNNCell(3, 4, bias=False, nonlinearity=relu)") != std::string::npos);
}

TEST_CASE("recurrent layers and cells reject bad arguments and inputs by name",
          "[nn][recurrent][hostile]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(nn::LSTM(0, 4), Contains("LSTM") && Contains("input_size"));
    CHECK_THROWS_WITH(nn::GRU(3, -1), Contains("GRU") && Contains("hidden_size"));
    CHECK_THROWS_WITH(nn::RNN(3, 4, {.num_layers = 0}), Contains("RNN") && Contains("num_layers"));
    CHECK_THROWS_WITH(nn::LSTM(3, 4, {.dropout = std::nan("")}),
                      Contains("LSTM") && Contains("dropout"));
    CHECK_THROWS_WITH(nn::GRU(3, 4, {.dropout = 1.5}), Contains("dropout"));
    CHECK_THROWS_WITH(nn::LSTM(3, 4, {.proj_size = 4}), Contains("proj_size"));
    CHECK_THROWS_WITH(nn::LSTM(3, 4, {.proj_size = -1}), Contains("proj_size"));
    CHECK_THROWS_WITH(nn::LSTM(3, std::int64_t{1} << 62), Contains("LSTM") && Contains("overflow"));
    CHECK_THROWS_WITH(nn::GRUCell(3, std::int64_t{1} << 62), Contains("GRUCell"));
    CHECK_THROWS_WITH(nn::RNNCell(0, 3), Contains("RNNCell") && Contains("input_size"));

    nn::LSTM lstm(3, 4, {.num_layers = 2});
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 2})), Contains("LSTM") && Contains("[5,2,2]"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3, 1})), Contains("LSTM"));
    CHECK_THROWS_WITH(lstm(dc::zeros({3})), Contains("LSTM"));
    CHECK_THROWS_WITH(lstm(dc::zeros({0, 2, 3})), Contains("LSTM") && Contains("empty"));
    CHECK_THROWS_WITH(lstm(dc::zeros({0, 3})), Contains("empty"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3}, {.dtype = dc::float64})),
                      Contains("LSTM") && Contains("float64"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3}, {.dtype = dc::int64})), Contains("LSTM"));
    CHECK_THROWS_WITH(lstm(dc::Tensor{}), Contains("LSTM"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3}), {dc::zeros({2, 3, 4}), dc::zeros({2, 2, 4})}),
                      Contains("h0") && Contains("[2,2,4]") && Contains("[2,3,4]"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3}), {dc::zeros({2, 2, 4}), dc::zeros({1, 2, 4})}),
                      Contains("c0"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 2, 3}), {dc::zeros({2, 2, 4}), {}}),
                      Contains("LSTM") && Contains("both"));
    CHECK_THROWS_WITH(lstm(dc::zeros({5, 3}), {dc::zeros({2, 1, 4}), dc::zeros({2, 1, 4})}),
                      Contains("h0") && Contains("[2,4]"));
    nn::GRU gru(3, 4, {.batch_first = true});
    CHECK_THROWS_WITH(gru(dc::zeros({2, 5, 3}), dc::zeros({1, 5, 4})),
                      Contains("GRU") && Contains("[1,2,4]"));
    CHECK_THROWS_WITH(gru(dc::zeros({2, 5, 3}), dc::zeros({1, 2, 4}, {.dtype = dc::float64})),
                      Contains("GRU") && Contains("float64"));

    nn::LSTMCell cell(3, 4);
    CHECK_THROWS_WITH(cell(dc::zeros({2, 4})), Contains("LSTMCell") && Contains("[2,4]"));
    CHECK_THROWS_WITH(cell(dc::zeros({2, 3}), {dc::zeros({3, 4}), dc::zeros({2, 4})}),
                      Contains("LSTMCell") && Contains("h"));
    CHECK_THROWS_WITH(cell(dc::zeros({2, 3}), {dc::zeros({2, 4}), {}}), Contains("both"));
    nn::GRUCell gru_cell(3, 4);
    CHECK_THROWS_WITH(gru_cell(dc::zeros({3}), dc::zeros({1, 4})),
                      Contains("GRUCell") && Contains("[4]"));

    // A layer returning output and state refuses to be called with one tensor (Sequential).
    nn::Sequential seq;
    seq.push_back(nn::LSTM(3, 4));
    CHECK_THROWS_WITH(seq(dc::zeros({5, 2, 3})), Contains("LSTM") && Contains("several"));
}

TEST_CASE("README: recurrent layers", "[nn][recurrent][readme]") {
    dc::manual_seed(14);
    const dc::Tensor x = dc::randn({3, 5, 32}), x2 = dc::randn({3, 4, 32});
    const dc::Tensor x_time_major = dc::randn({5, 3, 32}), h0 = dc::randn({2, 3, 64});
    nn::LSTM lstm(32, 64, {.num_layers = 2, .batch_first = true, .dropout = 0.2});
    auto [output, state] = lstm(x);
    auto [h, c] = state;
    auto [next, carried] = lstm(x2, {h.detach(), c.detach()});
    nn::GRU gru(32, 64, {.bidirectional = true});
    auto [out, h_n] = gru(x_time_major, h0);
    nn::LSTMCell cell(32, 64);
    auto [h1, c1] = cell(x_time_major.slice(0, 0, 1).squeeze(0),
                         {h0.slice(0, 0, 1).squeeze(0), h0.slice(0, 1, 2).squeeze(0)});
    CHECK(output.shape() == dc::Shape{3, 5, 64});
    CHECK(h.shape() == dc::Shape{2, 3, 64});
    CHECK(c.shape() == dc::Shape{2, 3, 64});
    CHECK(next.shape() == dc::Shape{3, 4, 64});
    CHECK(carried.h.shape() == dc::Shape{2, 3, 64});
    CHECK(out.shape() == dc::Shape{5, 3, 128});
    CHECK(h_n.shape() == dc::Shape{2, 3, 64});
    CHECK(h1.shape() == dc::Shape{3, 64});
    CHECK(c1.shape() == dc::Shape{3, 64});
}
