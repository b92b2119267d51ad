// Load engine: LOAD commands move ROWS x ROW_BYTES from device memory into
// ABUF, WBUF or PBUF (qnpu_burst walks the rows). Each read beat is written
// to the SRAM word it belongs to; the tail of a row's last word is zero.
// Read data comes back in request order; rd_ready_o is its back-pressure.
// The engine holds LoadDepth LOADs: the next ones' checks and requests
// overlap this one's data (qnpu_burst Depth), so a run of back-to-back LOADs
// pays the memory latency about once per LoadDepth - 1 of them, not once
// each.

module qnpu_load
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned DmaBytes = Cols,
  parameter int unsigned AbufWords = 4096,
  parameter int unsigned WbufWords = 2048,
  parameter int unsigned PbufWords = 256
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  output logic              busy_o,
  output logic              active_o,
  output logic              push_next_o,
  output logic              err_o,
  output logic [7:0]        err_code_o,
  output logic [15:0]       bytes_o,
  // memory read channel
  output logic              rd_req_valid_o,
  output logic [39:0]       rd_req_addr_o,
  output logic [15:0]       rd_req_len_o,
  input  logic              rd_req_ready_i,
  input  logic              rd_valid_i,
  output logic              rd_ready_o,
  input  logic [Cols*8-1:0] rd_data_i,
  // SRAM write port (shared address/data, one enable per buffer)
  output logic              abuf_we_o,
  output logic              wbuf_we_o,
  output logic              pbuf_we_o,
  output logic [19:0]       waddr_o,
  output logic [Cols*8-1:0] wdata_o
);
  localparam int unsigned ColsLog = $clog2(Cols);
  // LOADs held at once: qnpu_pkg::LoadDepth (qnpu_regs.toml, shared with
  // the cost model). 4, measured (docs/performance.md "Overlapped LOADs"):
  // a deeper queue saves at most 0.04 % more of a shipped model's cycles.

  logic [3:0]  buf_sel, chk_buf;
  logic [15:0] row_bytes;
  logic [31:0] buf_words;
  logic        we, last_beat;
  logic [ColsLog-1:0] tail_bytes;

  always_comb begin
    unique case (chk_buf)
      BufAbuf: buf_words = AbufWords;
      BufWbuf: buf_words = WbufWords;
      BufPbuf: buf_words = PbufWords;
      default: buf_words = '0;
    endcase
  end

  qnpu_burst #(
    .Cols     (Cols),
    .DmaBytes (DmaBytes),
    .PushLsb  (CmdPushNextLsb),
    .Depth    (LoadDepth)
  ) u_burst (
    .clk_i,
    .rst_ni,
    .cmd_valid_i,
    .cmd_i,
    .cmd_ready_o,
    .busy_o,
    .push_o      (push_next_o),
    .err_o,
    .err_code_o,
    .bytes_o,
    .chk_buf_o   (chk_buf),
    .buf_words_i (buf_words),
    .buf_o       (buf_sel),
    .row_bytes_o (row_bytes),
    .req_valid_o (rd_req_valid_o),
    .req_addr_o  (rd_req_addr_o),
    .req_len_o   (rd_req_len_o),
    .req_ready_i (rd_req_ready_i),
    .take_o      (rd_ready_o),
    .beat_i      (rd_valid_i),
    .beat_o      (we),
    .last_beat_o (last_beat),
    .sram_addr_o (waddr_o)
  );

  assign tail_bytes = row_bytes[ColsLog-1:0];
  assign active_o   = we;
  assign abuf_we_o  = we && (buf_sel == BufAbuf);
  assign wbuf_we_o  = we && (buf_sel == BufWbuf);
  assign pbuf_we_o  = we && (buf_sel == BufPbuf);

  // zero the bytes past the end of the row in its last word
  always_comb begin
    wdata_o = rd_data_i;
    if (last_beat && tail_bytes != '0) begin
      for (int unsigned b = 0; b < Cols; b++) begin
        if (b >= 32'(tail_bytes)) begin
          wdata_o[b*8 +: 8] = 8'h00;
        end
      end
    end
  end

  // only the row's tail within its last word matters here
  logic unused_load;
  assign unused_load = ^row_bytes[15:ColsLog];

  // the bridge sends read data only for a burst it was asked for, and holds
  // it until taken (rd_ready_o)
  RdInBurst_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    rd_valid_i |-> busy_o);
endmodule
