# PC-specific configuration, run inside the new system after common/customize.sh.
set -eu
# A small initrd: only the drivers that can hold the system disk of a PC or
# a virtual machine (SATA/AHCI, NVMe, virtio, USB storage, SD/MMC readers)
# instead of Debian's "most" (36 MiB, slow to load on a small CPU). A PC
# whose system disk needs another driver (hardware RAID, SCSI HBAs) needs
# it added here.
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
cat >>/etc/initramfs-tools/modules <<'MODULES'
ext4
crc32c_generic
virtio_pci
virtio_blk
virtio_scsi
ahci
sd_mod
nvme
xhci_pci
ehci_pci
ohci_pci
uhci_hcd
usb_storage
uas
mmc_block
sdhci_pci
sdhci_acpi
MODULES
update-initramfs -u -k all
