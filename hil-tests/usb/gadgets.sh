#!/bin/sh
# Creates one configfs gadget per /hil/gadgets/*.gadget file (shell variable assignments, see
# hil-tests/README.md) and plugs it into dummy_udc.<index> (files in name order).
G=/sys/kernel/config/usb_gadget
idx=0
for def in /hil/gadgets/*.gadget; do
  NAME=""; VID=""; PID=""; MANUFACTURER=""; PRODUCT=""; SERIAL=""; FUNCTION=""
  HID_PROTOCOL=0; HID_SUBCLASS=0; HID_REPORT_LENGTH=8; HID_REPORT_DESC=""; PNP_STRING=""; Q_LEN=10; HELPER=""
  . "$def"
  d=$G/$NAME
  mkdir -p $d/strings/0x409 $d/configs/c.1/strings/0x409
  echo $VID > $d/idVendor
  echo $PID > $d/idProduct
  echo 0x0100 > $d/bcdDevice
  echo 0x0200 > $d/bcdUSB
  echo "$MANUFACTURER" > $d/strings/0x409/manufacturer
  echo "$PRODUCT" > $d/strings/0x409/product
  echo "$SERIAL" > $d/strings/0x409/serialnumber
  echo cfg > $d/configs/c.1/strings/0x409/configuration
  echo 100 > $d/configs/c.1/MaxPower
  f=$d/functions/$FUNCTION.usb0
  mkdir -p $f
  case $FUNCTION in
    hid)
      echo $HID_PROTOCOL > $f/protocol
      echo $HID_SUBCLASS > $f/subclass
      echo $HID_REPORT_LENGTH > $f/report_length
      echo "$HID_REPORT_DESC" | xxd -r -p > $f/report_desc
      ;;
    printer)
      echo "$PNP_STRING" > $f/pnp_string
      echo $Q_LEN > $f/q_len
      ;;
  esac
  ln -s $f $d/configs/c.1/
  echo dummy_udc.$idx > $d/UDC
  echo "HIL: gadget $NAME $VID:$PID on dummy_udc.$idx"
  [ -n "$HELPER" ] && echo "$HELPER" >> /tmp/hil-helpers
  idx=$((idx + 1))
done
